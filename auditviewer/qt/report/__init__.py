"""Reports drawn page by page with QPainter: one renderer for print, print preview and PDF.

QtGui only, not even QtPrintSupport (whose Python module loads QtWidgets): the
CLI draws PDFs with nothing but a QGuiApplication on the offscreen platform,
and the window hands in the QPrinter its print dialogs configured.
"""
