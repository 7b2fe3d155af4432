"""Publishing: the site, the digest and the renderers behind them."""
