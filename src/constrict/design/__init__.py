"""Design of an SEI coating composition from a parent glass (docs/design.md).

Two routes reach a composition whose Kcrit meets a target: the SHAP-guided
route over the surrogate (:mod:`~constrict.design.shap_route`) and the
physics route over the engine (:mod:`~constrict.design.physics_route`);
every design is checked by the engine (:mod:`~constrict.design.physics`).
Modules: :mod:`~constrict.design.parents` (the parent glasses),
:mod:`~constrict.design.region` and :mod:`~constrict.design.grid` (the
composition region and its grid), :mod:`~constrict.design.distance`,
:mod:`~constrict.design.config`, :mod:`~constrict.design.campaign` and
:mod:`~constrict.design.stage` (the workflow's steps),
:mod:`~constrict.design.plots` and :mod:`~constrict.design.cli`
(``constrict design``).
"""
