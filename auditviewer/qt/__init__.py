"""The Qt front end: models (QtCore only) and widgets."""
