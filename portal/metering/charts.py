"""Consumption charts: this year against last year, month by month, drawn as SVG by a template."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from flask_babel import format_date
from sqlalchemy import func, select

from portal.extensions import db
from portal.formatting import format_volume
from portal.metering.models import MeteringPoint, Reading


def month_names() -> list[str]:
    """The short month names in the current language, January first."""
    return [format_date(date(2000, month, 1), "LLL") for month in range(1, 13)]


def contract_consumption(contract_id) -> list[tuple[date, Decimal, int]]:
    """(period, total consumption, readings) of a contract's meters, newest first."""
    rows = db.session.execute(
        select(Reading.period, func.sum(Reading.consumption), func.count(Reading.id))
        .join(MeteringPoint, MeteringPoint.id == Reading.metering_point_id)
        .where(MeteringPoint.contract_id == contract_id)
        .group_by(Reading.period)
        .order_by(Reading.period.desc())
    )
    return [(period, total or Decimal(0), count) for period, total, count in rows]


@dataclass
class ChartBar:
    x: float
    y: float
    width: float
    height: float
    value: Decimal
    label: str


@dataclass
class Chart:
    """Geometry of a two-series bar chart (this year vs last year), drawn as SVG in a template."""

    this_year: int
    last_year: int
    bars_this: list
    bars_last: list
    months: list  # (x, label)
    gridlines: list  # (y, label)
    width: int = 720
    height: int = 282
    plot_top: int = 10
    plot_bottom: int = 220
    plot_left: int = 56


def consumption_chart(by_period: dict[date, Decimal], year: int, month_names) -> Chart:
    """Bars per month for `year` and `year - 1` from {period: consumption}."""
    chart = Chart(year, year - 1, [], [], [], [])
    values = [
        by_period.get(date(y, m, 1)) or Decimal(0) for y in (year, year - 1) for m in range(1, 13)
    ]
    top = max(values + [Decimal(1)])
    scale = _nice_ceiling(top)
    plot_height = chart.plot_bottom - chart.plot_top
    slot = (chart.width - chart.plot_left - 8) / 12
    bar = slot * 0.36
    for index in range(12):
        left = chart.plot_left + index * slot
        chart.months.append((left + slot / 2, month_names[index]))
        for series, offset, y in ((chart.bars_last, 0.12, year - 1), (chart.bars_this, 0.52, year)):
            value = by_period.get(date(y, index + 1, 1)) or Decimal(0)
            height = float(value / scale) * plot_height
            series.append(
                ChartBar(
                    x=round(left + slot * offset, 1),
                    y=round(chart.plot_bottom - height, 1),
                    width=round(bar, 1),
                    height=round(height, 1),
                    value=value,
                    label=f"{month_names[index]} {y}",
                )
            )
    for step in range(5):
        fraction = Decimal(step) / 4
        y = chart.plot_bottom - float(fraction) * plot_height
        chart.gridlines.append((round(y, 1), format_volume((scale * fraction).normalize())))
    return chart


def _nice_ceiling(value: Decimal) -> Decimal:
    magnitude = Decimal(10) ** (len(str(int(value))) - 1)
    for factor in (1, 2, 2.5, 5, 10):
        candidate = magnitude * Decimal(str(factor))
        if candidate >= value:
            return candidate
    return magnitude * 10
