"""Evaluation: benchmark registry, answer extraction, the eval runner and result tables."""

from medo1.evaluate.extract import Extraction, extract_answer

__all__ = ["Extraction", "extract_answer"]
