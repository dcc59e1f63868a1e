"""Channel gateway: WeChat Official Account callback, web / mini-program chat, human mode, notifier."""
