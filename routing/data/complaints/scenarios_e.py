"""Complaint scenarios, part E: long messages on the 交通运输 / 商贸旅游 / 卫生计生 boundaries with 城乡建设.

Same format as ``scenarios_a.py``. All texts are written for this project.
"""

SCENARIOS_E: list[dict] = []
