"""auditviewer: review exported audit-log databases offline."""

__version__ = "0.1.0"
APP_NAME = "auditviewer"
ORG_NAME = "auditviewer"
