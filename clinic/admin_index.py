"""Shortcuts on the admin home page: each app registers its own from AppConfig.ready().

The core template (templates/admin/clinic_index.html) renders what is registered, grouped by
section, showing each link only to users who hold its permission; it names no app.
"""

from dataclasses import dataclass

from django.urls import reverse

from clinic.accounts.actors import AnyUser


@dataclass(frozen=True)
class AdminShortcut:
    section: str
    label: str
    url_name: str
    permission: str  # "app_label.codename"; users without it do not see the link
    description: str
    position: int  # smaller first, across apps


_shortcuts: dict[str, AdminShortcut] = {}


def admin_shortcut_register(
    *, section: str, label: str, url_name: str, permission: str, description: str, position: int
) -> None:
    """Show LABEL (a link to URL_NAME) under SECTION on the admin home page to holders of PERMISSION."""
    _shortcuts[url_name] = AdminShortcut(
        section=section,
        label=label,
        url_name=url_name,
        permission=permission,
        description=description,
        position=position,
    )


def admin_sections_for(user: AnyUser) -> list[dict]:
    """Return [{"title", "links": [{"label", "url", "description"}]}] of the shortcuts USER may follow."""
    sections: dict[str, list[dict]] = {}
    for shortcut in sorted(_shortcuts.values(), key=lambda s: (s.position, s.label)):
        if user.has_perm(shortcut.permission):
            link = {"label": shortcut.label, "url": reverse(shortcut.url_name), "description": shortcut.description}
            sections.setdefault(shortcut.section, []).append(link)
    return [{"title": title, "links": links} for title, links in sections.items()]
