# Two commands matter: `make run` (the app with demo data on http://127.0.0.1:8000; another
# port with `make run PORT=8001`) and `make test` (the whole suite on real PostgreSQL, Redis,
# Celery and Chromium).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip

.PHONY: run test test-suite prod-parity install install-dev lint check bench worker beat clean

$(VENV)/.installed: requirements.txt
	scripts/install-system-packages.sh run
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt scripts/oidc-provider/package-lock.json $(VENV)/.installed
	scripts/install-system-packages.sh test
	$(PIP) install --quiet --disable-pip-version-check -r requirements-dev.txt
	# The real OpenID provider of the single sign-on tests (pinned by its package-lock.json)
	cd scripts/oidc-provider && npm ci --no-audit --no-fund --loglevel=error
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# make run PORT=8001 (HOST=0.0.0.0 to listen on every interface)
HOST ?= 127.0.0.1
PORT ?= 8000

run: install
	mkdir -p var
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_demo
	$(PY) manage.py runserver $(HOST):$(PORT)

# The whole suite: every pytest test on the real services, then the production-parity stage.
test: test-suite prod-parity

test-suite: install-dev
	scripts/with-test-services.sh $(VENV)/bin/pytest $(PYTEST_ARGS)

prod-parity: install-dev
	scripts/prod-parity.sh

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

check: install-dev
	$(PY) manage.py makemigrations --check --dry-run
	DEBUG=false SECRET_KEY=$$($(PY) -c 'import secrets;print(secrets.token_urlsafe(60))') \
	  ALLOWED_HOSTS=commissioning.example.org PSEUDONYMISATION_KEY=check-only \
	  EMAIL_HOST=smtp.example.org \
	  $(PY) manage.py check --deploy --fail-level WARNING

worker: install
	$(VENV)/bin/celery -A commissioning worker --loglevel=INFO --concurrency=2

beat: install
	$(VENV)/bin/celery -A commissioning beat --loglevel=INFO

clean:
	rm -rf $(VENV) var
