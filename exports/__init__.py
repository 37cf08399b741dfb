"""Exports: request logs and usage reports as streaming CSV and JSON lines.

Rows are produced in bounded chunks (keyset pages for logs), encoded by `exports.formats`,
and neutralized against spreadsheet formula injection by `exports.csv_safety`.
"""
