"""Custom Rasa components (the one place project code runs inside Rasa's own venv)."""
