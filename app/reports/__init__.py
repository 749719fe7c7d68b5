"""Ledger (台账), dashboard, annual report tables, exports and the ledger import: the queries and
files behind the reporting pages (their views are app/web/reports.py)."""
