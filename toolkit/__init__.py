"""taizhang: Excel registers (台账) for service and retail chains."""

__version__ = "0.1.0"
