"""Tables of the rates: precomputed monthly tallies, stored monthly reports, the public survey's answers."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, DateTime, Float, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from routing.persistence.case_tables import utcnow
from routing.persistence.db import Base


class RateMonthly(Base):
    """One rate's numerator and denominator for one month, county, township, body and category.

    Written by ``routing.rates.monthly.refresh`` from the event log (the sweep does last and this
    month); read by the report's tables and the public page, which add rows up instead of reading cases.
    """

    __tablename__ = "rate_monthly"
    __table_args__ = (
        Index("ix_rate_monthly_township", "township", "month"),
        # the township total rows of a county (body and category '*'), month by month: the public page
        Index("ix_rate_monthly_rollup", "county_code", "body_id", "category", "month"),
    )

    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    county_code: Mapped[str] = mapped_column(String(16), primary_key=True)
    township: Mapped[str] = mapped_column(String(16), primary_key=True)
    body_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    category: Mapped[str] = mapped_column(String(32), primary_key=True)
    rate_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    numerator: Mapped[float] = mapped_column(Float, default=0.0)
    denominator: Mapped[int] = mapped_column(Integer, default=0)


class RateRefresh(Base):
    """When a county's tallies of a month were last computed (and how many cases they read)."""

    __tablename__ = "rate_refreshes"

    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    county_code: Mapped[str] = mapped_column(String(16), primary_key=True)
    computed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    cases: Mapped[int] = mapped_column(Integer, default=0)


class StoredReport(Base):
    """A monthly situation report as it was generated (opened later exactly as it was)."""

    __tablename__ = "stored_reports"
    __table_args__ = (UniqueConstraint("region", "period", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    region: Mapped[str] = mapped_column(String(16), index=True)
    period: Mapped[str] = mapped_column(String(7))
    version: Mapped[int] = mapped_column(Integer, default=1)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    html: Mapped[str] = mapped_column(Text)
    generated_by: Mapped[str] = mapped_column(String(64))
    generated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class SurveyAnswer(Base):
    """One answer to the 平安浙江文化周 survey: three answers and a day, no personal data.

    ``visitor`` is a keyed hash of a random browser cookie and the day, so one browser answers once a
    day and nothing links answers of different days or leads back to a person.
    """

    __tablename__ = "survey_answers"
    __table_args__ = (UniqueConstraint("day", "visitor"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    visitor: Mapped[str] = mapped_column(String(64))
    region: Mapped[str] = mapped_column(String(16))
    participated: Mapped[str] = mapped_column(String(8))  # 参与: yes | no
    satisfied: Mapped[str] = mapped_column(String(12))  # 满意: satisfied | basically | unsatisfied
    aware: Mapped[str] = mapped_column(String(8))  # 知晓: yes | no
