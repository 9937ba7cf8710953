"""Telegram channel on python-telegram-bot 22 (webhook and polling, durable inbox first)."""
