"""The WeChat channel. The only package that imports wechatpy."""
