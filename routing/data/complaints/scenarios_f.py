"""Complaint scenarios, part F: long messages on the 劳动和社会保障 / 教育文体 / 环境保护 boundaries with 城乡建设.

Same format as ``scenarios_a.py``. All texts are written for this project.
"""

SCENARIOS_F: list[dict] = []
