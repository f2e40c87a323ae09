"""Reports for Virtual School officers: the tracker workbook, findings CSV, and letters.

This package (with ``apdocs.formats``) is the only place that imports openpyxl or docxtpl.
"""
