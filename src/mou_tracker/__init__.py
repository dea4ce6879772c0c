"""mou-tracker: public, dated, evidence-backed tracking of non-binding agreements."""

__version__ = "0.1.0"
