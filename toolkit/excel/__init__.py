"""The Excel buttons: macro-enabled workbooks built from ``macros/*.bas`` and the definitions, the Python
handlers their buttons call through xlwings, and the checks of a user's machine (setup, doctor)."""
