"""The admin's two-step import page (upload + preview, then commit), shared by every app's import.

Step 1 reads the uploaded file and shows the dry run: every row with what the commit would do and
why. Step 2 commits the very file that was previewed (carried back signed in the page, so it cannot
be swapped), all or nothing. Files above the upload limit (DATA_UPLOAD_MAX_MEMORY_SIZE, 1 MiB) go
through the management commands instead. Clinic admins only: onboarding writes a whole clinic.
"""

import base64
from collections.abc import Callable, Iterator
from typing import Any

from django import forms
from django.contrib import messages
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse

from clinic.accounts.actors import request_user
from clinic.admin_tools import admin_page_context
from clinic.imports.runner import ImportParseError, ImportReport
from clinic.roles import is_clinic_admin

SALT = "clinic.admin_imports"
PREVIEW_MAX_AGE = 3600  # a preview older than an hour is read again


class ImportUploadForm(forms.Form):
    file = forms.FileField(help_text="UTF-8; at most 1 MiB here (larger files: the management command).")


Rows = Callable[[str, bytes], Iterator[tuple[int, dict[str, str]]]]
Run = Callable[..., ImportReport]


def import_view(
    model_admin: Any,
    request: HttpRequest,
    *,
    title: str,
    rows: Rows,
    run: Run,
    formats: str,
    columns: tuple[str, ...],
    done_url: str,
) -> HttpResponse:
    """Show the upload form, the dry run of an uploaded file, or commit a previewed one."""
    if not is_clinic_admin(request.user):
        raise PermissionDenied
    uploading = request.method == "POST" and request.POST.get("step") != "commit"
    form = ImportUploadForm(request.POST, request.FILES) if uploading else ImportUploadForm()
    report: ImportReport | None = None
    payload = ""
    error = ""
    if request.method == "POST":
        name, content = "", b""
        if request.POST.get("step") == "commit":
            try:
                saved = signing.loads(request.POST.get("payload", ""), salt=SALT, max_age=PREVIEW_MAX_AGE)
                name, content = saved["name"], base64.b64decode(saved["content"])
            except (signing.BadSignature, KeyError, ValueError):
                error = "The preview expired or was changed; upload the file again."
        elif form.is_valid():
            upload = form.cleaned_data["file"]
            name, content = upload.name, upload.read()
        if content:
            commit = request.POST.get("step") == "commit"
            try:
                report = run(rows=rows(name, content), by=request_user(request), commit=commit)
            except ImportParseError as exc:
                error = f"{name}: {exc}"
            if report is not None and report.committed:
                messages.success(request, f"Imported {name}: {report.summary()}.")
                return HttpResponseRedirect(reverse(done_url))
            if report is not None and commit:
                error = f"Nothing was written: {len(report.refused)} row(s) refused. Fix them and upload again."
            blob = {"name": name, "content": base64.b64encode(content).decode()}
            payload = signing.dumps(blob, salt=SALT, compress=True)
    context = admin_page_context(
        model_admin,
        request,
        title=title,
        form=form,
        report=report,
        payload=payload if report is not None and not report.refused and report.counts.keys() - {"unchanged"} else "",
        error=error,
        formats=formats,
        columns=columns,
    )
    return TemplateResponse(request, "admin/import.html", context)
