"""Files in and out: the one judge of a file's type (`sniff`), the one reader of uploaded
tables (CSV/XLSX) and its limits.

Every upload's type is judged by `portal.files.sniff.sniff` (first bytes, never the name).

Every uploaded table (order files, the readings template, the staff catalogue import, bank
statements) is read by `portal.files.tables`; every XLSX the portal writes goes through
`portal.reports.xlsx`, which stores text as text, never as a formula.
"""
