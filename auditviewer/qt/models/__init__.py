"""Qt item models and background tasks: no widgets here."""
