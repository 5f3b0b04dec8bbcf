"""Save and load a fitted surrogate as a skops file, with its metadata.

The file holds plain data only (a dict: format tag, the constructor
parameters, the feature list, the fitted ExtraTreesRegressor, the SHAP
background, ``info_`` and the library versions), never a pickled constrict
class. This module knows the file, not the model class
(:func:`constrict.surrogate.model.load` builds the model from :func:`read`).
Loading is safe:

- every type in the file must be one skops trusts by default, plus
  ``sklearn.tree._tree.Tree`` (the forest's node arrays); anything else is
  refused before any object is built;
- skops does not trust ``Tree`` because scikit-learn indexes its node
  arrays without bounds checks, so every tree's child and feature indices
  are checked to lie in range before the model is returned.

Versions: the file records scikit-learn, numpy, shap, skops, constrict and
Python. A different **scikit-learn** is an error (its tree internals and
predictions may change between releases, so retrain, or install the pins);
any other difference is a warning (:class:`VersionWarning`), because the
numbers do not depend on it.
"""

from __future__ import annotations

import sys
import warnings
from importlib.metadata import version
from pathlib import Path

import numpy as np

from constrict.core.errors import ConstrictError, SchemaError

FORMAT = "constrict.surrogate/1"
"""Format tag stored in every file; a different tag is refused."""

SUFFIX = ".skops"

TREE_TYPE = "sklearn.tree._tree.Tree"

STRICT_LIBRARIES = ("scikit-learn",)
"""A version difference of these is an error on load."""

WARN_LIBRARIES = ("numpy", "shap", "skops", "constrict")
"""A version difference of these (and of Python) is a warning on load."""


class VersionWarning(UserWarning):
    """A model file was written with other library versions than those installed."""


def library_versions() -> dict[str, str]:
    """Installed versions of the libraries recorded in a model file, and Python's."""
    out = {name: version(name) for name in STRICT_LIBRARIES + WARN_LIBRARIES}
    out["python"] = ".".join(map(str, sys.version_info[:3]))
    return out


def save(model, path: str | Path) -> Path:
    """Write a fitted :class:`~constrict.surrogate.model.KcritSurrogate` to ``path`` (skops).

    Returns
    -------
    Path
        The file written (atomically: a temp file renamed over it).
    """
    import skops.io as sio
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(model)
    payload = {
        "format": FORMAT,
        "params": model.get_params(),
        "features": list(model.features_),
        "estimator": model.estimator_,
        "background": model.background_.to_numpy(dtype=float),
        "info": dict(model.info_),
        "versions": library_versions(),
    }
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        sio.dump(payload, tmp)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def _check_trees(forest, n_features: int, path: Path) -> None:
    """Refuse trees whose node arrays index outside themselves."""
    for i, estimator in enumerate(forest.estimators_):
        tree = estimator.tree_
        n = tree.node_count
        children = np.concatenate([tree.children_left, tree.children_right])
        leaf = tree.children_left == -1
        ok = (
            len(tree.children_left) == n
            and ((children == -1) | ((children > 0) & (children < n))).all()
            and ((tree.feature[~leaf] >= 0) & (tree.feature[~leaf] < n_features)).all()
            and tree.n_features == n_features
        )
        if not ok:
            raise SchemaError(f"{path}: tree {i} has node or feature indices out of range; damaged or not ours")


def _check_versions(saved: dict[str, str], path: Path) -> None:
    installed = library_versions()
    for name in STRICT_LIBRARIES:
        if saved.get(name) != installed[name]:
            raise ConstrictError(
                f"{path} was written with {name} {saved.get(name)}, this environment has {installed[name]}; "
                "retrain (make run) or install the pinned versions (pip install -c constraints.txt -e .)"
            )
    names = (*WARN_LIBRARIES, "python")
    differ = [f"{n} {saved.get(n)} -> {installed[n]}" for n in names if saved.get(n) != installed[n]]
    if differ:
        warnings.warn(f"{path.name}: written with other versions ({', '.join(differ)})", VersionWarning, stacklevel=3)


def read(path: str | Path) -> dict:
    """Read the payload of a file written by :func:`save`, audited and checked.

    Parameters
    ----------
    path : str or Path
        A ``.skops`` file.

    Returns
    -------
    dict
        ``params``, ``features``, ``estimator`` (the forest, every tree's
        indices checked), ``background`` (ndarray of shape (n, n_features)),
        ``info`` and ``versions``. :func:`constrict.surrogate.model.load`
        builds the model from it; this module never imports the model class.

    Raises
    ------
    ConstrictError
        Missing file, another scikit-learn version, untrusted types, a
        foreign format or damaged trees (one line each).
    """
    import skops.io as sio
    from skops.io.exceptions import UntrustedTypesFoundException

    path = Path(path)
    if not path.is_file():
        raise ConstrictError(f"surrogate model {path} not found")
    try:  # one pass: skops audits every type against its defaults plus TREE_TYPE before building anything
        payload = sio.load(path, trusted=[TREE_TYPE])
    except UntrustedTypesFoundException as exc:
        first_line = str(exc).strip().splitlines()[0]
        raise SchemaError(f"{path}: refused, not a constrict surrogate file ({first_line})") from None
    except Exception as exc:
        raise SchemaError(f"{path}: not a skops file ({type(exc).__name__})") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise SchemaError(f"{path}: not a {FORMAT} file")
    _check_versions(payload["versions"], path)
    _check_trees(payload["estimator"], len(payload["features"]), path)
    return payload
