"""What the pages and the API both send as a file: below both blueprints,
so neither imports the other (web pages never import from blueprints/api,
nor the API from blueprints/web)."""

from __future__ import annotations

from flask import Response

from referral_app.services.report_csv import CsvExport


def csv_attachment(export: CsvExport) -> Response:
    """A CSV export as a download named by the export (for the API and the
    reports page alike)."""
    return Response(
        export.text,
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{export.filename}"'},
    )
