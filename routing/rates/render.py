"""The situation report in HTML (charts by Apache ECharts), PDF (the same HTML printed by headless
Chromium), xlsx (openpyxl: Chinese headers, frozen header row, number formats) and csv."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from routing.centre.warnings import STATE_LABELS
from routing.persistence.db import REPO_ROOT

TEMPLATES = Path(__file__).resolve().parent / "templates"
ASSETS = Path(__file__).resolve().parent / "assets"  # report.css, report.js, public.js (served at /assets/)
ECHARTS_JS = REPO_ROOT / "vendor" / "node_modules" / "echarts" / "dist" / "echarts.min.js"
ECHARTS_URL = "/vendor/echarts.min.js"
FORMATS = ("html", "pdf", "xlsx", "csv")
CONTENT_TYPES = {"html": "text/html; charset=utf-8", "pdf": "application/pdf",
                 "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                 "csv": "text/csv; charset=utf-8"}


class RenderError(RuntimeError):
    """A format that cannot be produced here (no Chromium for the PDF, no ECharts installed)."""


def echarts_path() -> Path:
    """Where the ECharts build is (``ECHARTS_JS`` overrides; ``make setup`` installs it with npm)."""
    return Path(os.environ.get("ECHARTS_JS") or ECHARTS_JS)


@lru_cache(maxsize=1)
def _env() -> Environment:
    return Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(default=True),
                       undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def _num(r: dict[str, Any]) -> str:
    n = r["numerator"]
    return f"{n:.0f}" if float(n).is_integer() else f"{n:.1f}"


def _pct_change(v: float | None) -> str:
    return "" if v is None else f"{v:+.1f}%"


def chart_data(d: dict[str, Any]) -> str:
    """The charts' data as JSON safe inside a script element."""
    data = {"months": d["categories"]["months"], "top": d["categories"]["top"],
            "places": [{"name": p["name"], "index": p["index"]} for p in d["rates"]["places"]]}
    return json.dumps(data, ensure_ascii=False).replace("</", "<\\/")


def html(d: dict[str, Any], *, standalone: bool = False, link: Callable[[str], str] | None = None,
         echarts_src: str = ECHARTS_URL) -> str:
    """The report page; ``standalone`` puts ECharts inside the file (for a saved file and the PDF)."""
    inline = ""
    if standalone:
        path = echarts_path()
        if not path.exists():
            raise RenderError(f"ECharts is not installed at {path} (make setup installs it)")
        inline = path.read_text(encoding="utf-8").replace("</script", "<\\/script")
    return _env().get_template("report.html").render(
        d=d, num=_num, pct_change=_pct_change, states=STATE_LABELS, chart_json=chart_data(d), link=link,
        echarts_inline=inline, echarts_src=echarts_src, standalone=standalone,
        assets={"css": _asset("report.css"), "js": _asset("report.js").replace("</script", "<\\/script")})


def _asset(name: str) -> str:
    return (ASSETS / name).read_text(encoding="utf-8")


def csv_text(d: dict[str, Any]) -> str:
    """One row per place and rate: 地区, 比率, 分子, 分母, 数值 (样本不足 where so)."""
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["期间", "地区代码", "地区", "比率", "分子", "分母", "数值", "化解指数"])
    rows = [(d["region"], d["region_name"], d["rates"]["rates"], d["rates"]["index"])]
    rows += [(p["code"], p["name"], p["rates"], p["index"]) for p in d["rates"]["places"]]
    for code, name, rates, index in rows:
        for r in rates:
            value = "样本不足" if r["insufficient"] else (f"{r['value']:.4f}" if r["value"] is not None else "")
            w.writerow([d["period"], code, name, r["name"], _num(r), r["denominator"], value,
                        "" if index is None else f"{index:.1f}"])
    return "\ufeff" + out.getvalue()  # a byte-order mark so spreadsheet programs read the Chinese


def xlsx_bytes(d: dict[str, Any]) -> bytes:
    """The workbook: 综述, 比率 (the region), 排名 (places × rates), 明细 (numerators and denominators)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    wb = Workbook()
    head = Font(bold=True)
    fill = PatternFill("solid", fgColor="EEEEEE")

    def header(ws: Any, names: list[str]) -> None:
        ws.append(names)
        for cell in ws[1]:
            cell.font, cell.fill = head, fill
            cell.alignment = Alignment(horizontal="center")
        ws.freeze_panes = "A2"

    ws = wb.active
    ws.title = "综述"
    header(ws, ["项目", "内容"])
    v = d["volumes"]
    ws.append(["地区", d["region_name"]])
    ws.append(["期间", d["period"]])
    ws.append(["受理件数", v["filed"]])
    ws.append([f"上期（{v['previous_period']}）", v["previous"]])
    ws.append([f"去年同期（{v['last_year_period']}）", v["last_year"]])
    for label, key in (("环比", "change_previous"), ("同比", "change_last_year")):
        ws.append([label, None if v[key] is None else v[key] / 100])
        ws.cell(ws.max_row, 2).number_format = "0.0%"
    for s in d["summary"]:
        ws.append(["综述", s])
    ws.column_dimensions["A"].width, ws.column_dimensions["B"].width = 22, 90

    rs = wb.create_sheet("比率")
    header(rs, ["比率", "分子", "分母", "数值", "说明", "依据"])
    for r in d["rates"]["rates"]:
        rs.append([r["name"], r["numerator"], r["denominator"], r["value"],
                   "样本不足" if r["insufficient"] else "", r["source"]])
        rs.cell(rs.max_row, 4).number_format = "0.0%" if r["kind"] == "rate" else "0.0"
        rs.cell(rs.max_row, 2).number_format = "0" if float(r["numerator"]).is_integer() else "0.0"
    rs.column_dimensions["A"].width, rs.column_dimensions["F"].width = 24, 60

    ks = wb.create_sheet("排名")
    cols = d["rates"]["columns"]
    header(ks, ["排名", "地区代码", "地区", "化解指数", "环比", *[c["name"] for c in cols]])
    for p in d["rates"]["places"]:
        ks.append([p["rank"], p["code"], p["name"], p["index"], p["change"],
                   *[("样本不足" if r["insufficient"] else r["value"]) for r in p["rates"]]])
        row = ks.max_row
        ks.cell(row, 4).number_format = ks.cell(row, 5).number_format = "0.0"
        for k, c in enumerate(cols, start=6):
            ks.cell(row, k).number_format = "0.0%" if c["kind"] == "rate" else "0.0"
    ks.column_dimensions["C"].width = 24

    ds = wb.create_sheet("明细")
    header(ds, ["地区代码", "地区", "比率", "分子", "分母"])
    for p in d["rates"]["places"]:
        for r in p["rates"]:
            ds.append([p["code"], p["name"], r["name"], r["numerator"], r["denominator"]])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def chromium() -> str:
    """The headless browser that prints the PDF (``CHROMIUM`` overrides; Debian's ``chromium``)."""
    exe = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not exe:
        raise RenderError("no chromium to print the PDF (apt-get install chromium fonts-wqy-microhei)")
    return exe


def pdf_bytes(d: dict[str, Any], timeout: float = 90.0) -> bytes:
    """Print the standalone HTML (charts drawn) to PDF with headless Chromium."""
    page = html(d, standalone=True)
    with tempfile.TemporaryDirectory(prefix="fq-report-") as tmp:
        src, out = Path(tmp) / "report.html", Path(tmp) / "report.pdf"
        src.write_text(page, encoding="utf-8")
        cmd = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
               f"--user-data-dir={tmp}/profile", "--no-pdf-header-footer", "--virtual-time-budget=5000",
               f"--print-to-pdf={out}", src.as_uri()]
        proc = subprocess.run(cmd, capture_output=True, timeout=timeout, check=False)
        if not out.exists() or out.stat().st_size == 0:
            raise RenderError(f"chromium printed no PDF (exit {proc.returncode}): {proc.stderr[-400:]!r}")
        return out.read_bytes()


def render(d: dict[str, Any], fmt: str, **kw: Any) -> bytes:
    """The report in one of :data:`FORMATS`."""
    if fmt == "html":
        return html(d, **kw).encode("utf-8")
    if fmt == "csv":
        return csv_text(d).encode("utf-8")
    if fmt == "xlsx":
        return xlsx_bytes(d)
    if fmt == "pdf":
        return pdf_bytes(d)
    raise ValueError(f"unknown format {fmt!r} (one of {', '.join(FORMATS)})")
