"""Add-ons the Rasa server loads by name from `config/rasa/endpoints.yml` (they run in `.venv-rasa`, in
the Rasa server's process; Rasa puts the working directory, the project's root, on `sys.path`)."""
