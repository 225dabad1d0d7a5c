"""Admin for conversations (the inbox) and raw webhook events."""
