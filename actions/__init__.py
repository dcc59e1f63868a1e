"""Custom actions of the 证照联办 assistant (rasa_sdk action server).

Run with ``scripts/rasa_env.sh actions`` (``rasa run actions --actions actions`` in .venv-rasa); Rasa
reaches it at ACTION_ENDPOINT_URL (default http://127.0.0.1:5055/webhook). rasa_sdk imports every module
of this package and registers each concrete ``Action`` subclass it finds.

- ``catalog``: ``action_list_licences`` (开火锅店要办哪些证), ``action_time_limit`` (多久能办好);
- ``checklist``: ``validate_checklist_form``, ``action_ask_checklist_answer``, ``action_show_checklist``,
  ``action_apply_correction``;
- ``policy``: ``action_policy_search`` (answers with citation and a 查看原文 link);
- ``applications``: ``validate_application_form``, ``action_start_application``,
  ``action_attach_material``, ``action_show_missing_materials``, ``action_submit_application``,
  ``action_show_progress``, ``action_commit_material`` (容缺后补 / 告知承诺 for one material),
  ``action_reapply`` (重新申请 after a refusal);
- ``licences``: ``action_show_licence`` (亮证), ``validate_change_form``, ``action_start_change``,
  ``action_start_cancel``;
- ``handoff``: ``action_handoff``, ``action_fallback`` (rephrase once, then a person);
- ``ratings``: ``validate_rating_form``, ``action_ask_score``, ``action_rate`` (好差评);
- ``resume``: ``action_resume`` (继续刚才的: back to the form or application left half done).

Shared pieces: ``backend`` (the HTTP client: short timeouts, cached catalog), ``dialogue`` (the applicant
id, graceful failure, buttons), ``parsing`` (numbers, yes/no, choices, scores in everyday Chinese),
``questionnaire`` (the questionnaire's slots and wording).

Rules for this package: it imports nothing from backend/ or bot/ (it runs in the Rasa environment) and
talks to the backend only over HTTP with ``X-Service-Key`` and ``X-Applicant: <channel>:<user_id>`` (the
Rasa sender id, which the gateway sets to exactly that). Configuration: ``BACKEND_URL``,
``BACKEND_PUBLIC_URL`` (links people open), ``SERVICE_KEY``, ``BACKEND_TIMEOUT`` (seconds, default 3).
"""
