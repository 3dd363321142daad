#!/usr/bin/env python3
"""Take the README screenshot of the dashboard from a running server.

Signs in through the real sign-in page in headless Chromium and saves a full-page PNG of the
dashboard, 1280 pixels wide. Start the app first (``make run``; with TWO_FACTOR_ENABLED=false
when the person would be asked for a security code), then, for example:

    .venv/bin/python scripts/screenshot.py josepha.reynolds@bromley.example.org \\
        Demo-commissioning-2026

Chromium comes from the system (/usr/bin/chromium, or CHROMIUM_PATH); nothing is downloaded.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("email", help="e-mail address of the person to sign in as")
    parser.add_argument("password", help="their password")
    parser.add_argument("--url", default="http://127.0.0.1:8000",
                        help="address of the running server (default: %(default)s)")
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "screenshot-dashboard.png",
                        help="where to save the PNG (default: docs/screenshot-dashboard.png)")
    parser.add_argument("--width", type=int, default=1280, help="viewport width in pixels")
    parser.add_argument("--height", type=int, default=800,
                        help="viewport height in pixels (the screenshot is the full page)")
    args = parser.parse_args(argv)
    base = args.url.rstrip("/")

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )
        try:
            page = browser.new_page(viewport={"width": args.width, "height": args.height})
            page.goto(f"{base}/sign-in/")
            page.get_by_label("Email address", exact=True).fill(args.email)
            page.get_by_label("Password", exact=True).fill(args.password)
            with page.expect_navigation():
                page.get_by_role("button", name="Sign in").click()
            if page.url.rstrip("/") != base:
                heading = page.locator("h1").first.inner_text()
                print(f"Sign-in did not reach the dashboard: {page.url} ({heading})",
                      file=sys.stderr)
                if "/two-factor/" in page.url:
                    print("This person must use two-factor sign-in. For a screenshot, run the "
                          "server with TWO_FACTOR_ENABLED=false.", file=sys.stderr)
                return 1
            page.wait_for_load_state("networkidle")
            args.output.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(args.output), full_page=True)
        finally:
            browser.close()
    print(f"Saved {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
