"""The web / mini-program chat channel: JSON API, login, pushed-notice polling and the chat page."""
