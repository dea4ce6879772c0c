"""The Markdown pages: the index (``README.md``), the key (``legend.md``), one page per
commitment, and the digest of what changed. Every piece of user text goes through
:mod:`mou_tracker.reports.markdown`.

Each page has its own module; this one gathers the names the export and the tests use:

- :mod:`.words`: file names, dates, status words and vocabularies shared by every page;
- :mod:`.index_page` and :mod:`.index_tables`: the index;
- :mod:`.legend_page`: the key, whose sections the index repeats;
- :mod:`.commitment_page` and :mod:`.commitment_records`: a commitment's page;
- :mod:`.digest_page`: the digest.
"""

from __future__ import annotations

from mou_tracker.reports.commitment_page import commitment_doc, commitment_page
from mou_tracker.reports.digest_page import digest_file_name, digest_page, digest_title
from mou_tracker.reports.index_page import QUIET_WARNING_DAYS, index_doc, index_page
from mou_tracker.reports.legend_page import legend_page, legend_sections
from mou_tracker.reports.words import (
    BASIS_WORDS,
    CHART_FILE,
    CONFIDENCE_WORDS,
    DIGEST_FILE,
    DIRECTION_WORDS,
    FEED_FILE,
    GENERATOR,
    KIND_WORDS,
    LEGEND_FILE,
    MONTHS,
    ORIGIN_WORDS,
    SHOWN_STATUSES,
    STATUS_BY_DATE_FILE,
    day,
    long_day,
    stamp,
    status_word,
)

__all__ = [
    "BASIS_WORDS",
    "CHART_FILE",
    "CONFIDENCE_WORDS",
    "DIGEST_FILE",
    "DIRECTION_WORDS",
    "FEED_FILE",
    "GENERATOR",
    "KIND_WORDS",
    "LEGEND_FILE",
    "MONTHS",
    "ORIGIN_WORDS",
    "QUIET_WARNING_DAYS",
    "SHOWN_STATUSES",
    "STATUS_BY_DATE_FILE",
    "commitment_doc",
    "commitment_page",
    "day",
    "digest_file_name",
    "digest_page",
    "digest_title",
    "index_doc",
    "index_page",
    "legend_page",
    "legend_sections",
    "long_day",
    "stamp",
    "status_word",
]
