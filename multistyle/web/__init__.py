"""The local web studio (optional extra: pip install 'multistyle[web]')."""
