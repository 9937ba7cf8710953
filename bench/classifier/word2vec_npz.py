"""Convert a binary word2vec file to the ``words`` / ``vecs`` npz that ``own_variants.py`` reads.

The vectors used in issue 17's third round are ``synonyms/data/words.vector`` from the source
archive of the PyPI package ``synonyms`` 3.8.0 (MIT; word2vec on Chinese Wikipedia)::

    pip download --no-deps --no-binary :all: -d /tmp/syn synonyms==3.8.0
    tar xzf /tmp/syn/synonyms-3.8.0.tar.gz -C /tmp/syn
    .venv/bin/python bench/classifier/word2vec_npz.py \
        /tmp/syn/synonyms-3.8.0/synonyms/data/words.vector var/syn_w2v.npz
"""

from __future__ import annotations

import sys

import numpy as np


def read_word2vec(path: str) -> tuple[list[str], np.ndarray]:
    """Header ``count dim``, then per word ``word<space>`` and ``dim`` float32 (and a newline)."""
    with open(path, "rb") as f:
        raw = f.read()
    newline = raw.index(b"\n")
    count, dim = map(int, raw[:newline].split())
    pos = newline + 1
    words: list[str] = []
    vecs = np.empty((count, dim), np.float32)
    for i in range(count):
        space = raw.index(b" ", pos)
        words.append(raw[pos:space].decode("utf-8", "ignore").strip())
        pos = space + 1
        vecs[i] = np.frombuffer(raw, np.float32, dim, pos)
        pos += 4 * dim
        if raw[pos : pos + 1] == b"\n":
            pos += 1
    return words, vecs


if __name__ == "__main__":
    words, vecs = read_word2vec(sys.argv[1])
    np.savez(sys.argv[2], words=np.array(words), vecs=vecs)
    print(f"{len(words)} words × {vecs.shape[1]} → {sys.argv[2]}")
