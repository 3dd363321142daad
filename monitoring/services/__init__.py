"""Writes for performance monitoring, one module a job (KPIs, returns, uploads, reminders,
assessments, service users). Keyword-only, typed, one transaction each."""
