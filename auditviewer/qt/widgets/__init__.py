"""Windows, tabs, panes and dialogs."""
