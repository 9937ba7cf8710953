"""Rates the centre is judged by (受理率, 按期办结率, 化解率 …), defined once in ``routing/data/rates.yaml``.

``definitions`` reads the file, ``facts`` reads one case's event log into the facts the rates
count, ``compute`` adds them up per region × month × body × category, ``monthly`` keeps the
precomputed monthly tallies, ``index`` turns rates into the 矛盾纠纷化解指数.
"""
