"""Cathode | coating | electrolyte stacks in the constrained ensemble (docs/science.md section 7, docs/cathode.md).

A coating between a cathode and a solid electrolyte has two interfaces and
its own stability. At the cathode's top-of-charge voltage V_c the stack
needs three critical moduli, all from the same physics as the screen:

- the coating/cathode interface (:func:`constrict.physics.evaluate.evaluate_interface`,
  the cathode as reactant a, the coating as b, so ``x_m`` is the coating's
  atom fraction);
- the coating/electrolyte interface at V_c (the electrolyte as a);
- the coating alone (its ground state as R) at V_c, beside its
  unconstrained window.

The stack is constriction-stable at Keff when all three are <= Keff; the
required Keff is their maximum.

Modules: :mod:`~constrict.cathode.cathodes` (cathodes, the known coatings,
the coating set), :mod:`~constrict.cathode.physics` (one stack, the coating
alone), :mod:`~constrict.cathode.campaign` (plan, coating-alone table),
:mod:`~constrict.cathode.ranking` (the ranking),
:mod:`~constrict.cathode.plots` (figures), :mod:`~constrict.cathode.cli`
(``constrict stack``).
"""
