"""Screening reports: context from the database, clinical wording, HTML/PDF/CSV rendering."""
