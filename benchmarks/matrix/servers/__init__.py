"""Servers the matrix compares that gunicorn.conf.py does not start itself."""
