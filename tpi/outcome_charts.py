"""Pain over time as server-side SVG (pygal), each chart with a table for screen readers.

pygal draws the SVG on the server: no JavaScript, no CDN (`js=[]`; its inline config script is
dropped, nothing in the chart needs it). Times on the axes and in the tables are clinic time
(`clinic.clock`); scores are 0-10. The SVG is `role="img"` with a summary label; the table beside
it (in a <details>) carries every point for screen readers and for reading exact values.
"""

import re
from collections.abc import Sequence

import pygal
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from pygal.style import Style

from clinic.clock import local_time, staff_date, staff_datetime
from tpi.models import FollowUp, Procedure
from tpi.outcomes import Outcome, PainPoint, PatientProcedureOutcome

POINT_LABELS = {
    "before": "before",
    "after": "right after",
    "check_in": "72-hour answer",
    "reassessment": "1-month answer",
}
SHORT_LABELS = {"before": "before", "after": "after", "check_in": "72 h", "reassessment": "1 month"}
METHOD_LABELS = dict(FollowUp.AnswerMethod.choices)
_SCRIPT = re.compile(r"<script\b.*?</script>", re.DOTALL)

# Colour-blind-safe (Okabe-Ito) series colours; the legend and the table name each procedure too.
STYLE = Style(
    background="transparent",
    plot_background="transparent",
    foreground="#333",
    foreground_strong="#111",
    foreground_subtle="#888",
    colors=("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"),
    font_family="system-ui, sans-serif",
    label_font_size=13,
    major_label_font_size=13,
    legend_font_size=13,
    value_font_size=12,
    title_font_size=15,
)


def _svg(chart: pygal.graph.graph.Graph, label: str) -> SafeString:
    svg = _SCRIPT.sub("", chart.render(is_unicode=True))
    svg = svg.replace("<svg ", f'<svg role="img" aria-label="{_attr(label)}" style="width:100%;height:auto" ', 1)
    return mark_safe(svg)  # noqa: S308  (pygal escapes every text it writes; the label is escaped above)


def _attr(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")


def procedure_title(row: PatientProcedureOutcome) -> str:
    """Return "2026-01-05 · Upper trapezius (left), Rhomboids (right) · steroid" for a legend or a caption."""
    treatment = "steroid" if row.steroid else "no steroid"
    return f"{staff_date(row.procedure.performed_at)} · {', '.join(row.sites) or 'no site'} · {treatment}"


def patient_pain_chart(rows: Sequence[PatientProcedureOutcome]) -> SafeString:
    """Return the patient's pain over time: one line per procedure (before, after, answers), or a note."""
    points = sum(len(row.points) for row in rows)
    if not points:
        return format_html("<p>{}</p>", "No pain scores yet.")
    chart = pygal.DateTimeLine(
        js=[],
        disable_xml_declaration=True,
        style=STYLE,
        width=900,
        height=380,
        range=(0, 10),
        include_x_axis=True,
        y_labels=list(range(0, 11, 2)),
        y_title="pain 0-10",
        show_legend=True,
        legend_at_bottom=True,
        legend_at_bottom_columns=1,
        truncate_legend=-1,
        truncate_label=-1,
        dots_size=4,
        x_label_rotation=0,
        x_value_formatter=lambda at: staff_date(at),
        show_minor_x_labels=False,
        x_labels_major_count=6,
        margin_bottom=10,
    )
    for row in rows:
        values = [
            {"value": (local_time(p.at), p.score), "label": POINT_LABELS.get(p.label, p.label)}
            for p in row.points
            if p.at is not None
        ]
        chart.add(procedure_title(row), values)
    label = f"Pain over time, {len(rows)} procedures, {points} scores; the table below lists each."
    return _svg(chart, label)


def patient_pain_table(rows: Sequence[PatientProcedureOutcome]) -> SafeString:
    """Return every pain score of the patient as a table (the chart's screen-reader fallback)."""
    lines = []
    for row in rows:
        outcome = row.outcome
        status = ", ".join(
            f"{when}: {Outcome.status_text(responder, substantial)}"
            for when, responder, substantial in (
                ("72 h", outcome.responder_check_in, outcome.substantial_check_in),
                ("1 month", outcome.responder_reassessment, outcome.substantial_reassessment),
            )
        )
        for point in row.points:
            lines.append(
                (
                    staff_datetime(point.at),
                    POINT_LABELS.get(point.label, point.label),
                    point.score,
                    METHOD_LABELS.get(point.method, point.method or "-"),
                    procedure_title(row),
                    f"{status}; {outcome.relief_text}",
                )
            )
    body = format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", lines)
    return format_html(
        '<table class="pain-table"><caption>{}</caption><thead><tr><th scope="col">When (clinic time)</th>'
        '<th scope="col">Score taken</th><th scope="col">Pain 0-10</th><th scope="col">How</th>'
        '<th scope="col">Procedure</th><th scope="col">Outcome</th></tr></thead><tbody>{}</tbody></table>',
        "Pain scores (LOINC 72514-3), oldest first",
        body,
    )


def procedure_pain_line(procedure: Procedure, points: Sequence[PainPoint]) -> SafeString:
    """Return the procedure's own pain line (before, after, 72 h, 1 month) as a small SVG."""
    scored = [p for p in points if p.score is not None]
    if not scored:
        return format_html("<p>{}</p>", "No pain scores yet.")
    chart = pygal.Line(
        js=[],
        disable_xml_declaration=True,
        style=STYLE,
        width=420,
        height=240,
        range=(0, 10),
        y_labels=list(range(0, 11, 2)),
        show_legend=False,
        dots_size=5,
        print_values=True,
        truncate_label=-1,
        margin=16,
        margin_right=36,
    )
    chart.x_labels = [SHORT_LABELS.get(p.label, p.label) for p in points]
    chart.add("pain", [p.score for p in points])
    label = "Pain of this procedure: " + ", ".join(f"{POINT_LABELS.get(p.label, p.label)} {p.score}" for p in scored)
    return _svg(chart, label)


def relief_summary(outcome: Outcome) -> str:
    """Return one line: responder status at 72 h and one month, and the relief duration."""
    return (
        f"72 h: {Outcome.status_text(outcome.responder_check_in, outcome.substantial_check_in)}; "
        f"1 month: {Outcome.status_text(outcome.responder_reassessment, outcome.substantial_reassessment)}; "
        f"{outcome.relief_text}"
    )
