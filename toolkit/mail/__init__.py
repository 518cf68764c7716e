"""Emailing the month's workbooks: settings and providers, the messages, the send log, the SMTP sending."""
