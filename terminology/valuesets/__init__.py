"""Value sets and the code-system operations beside them: ``$expand``, ValueSet and
CodeSystem ``$validate-code``, ``$lookup``.

A value set is a rule over code systems (``compose``): include a whole system, listed
concepts, or concepts a filter selects, intersect with imported value sets, then exclude the
same way. The modules, in the order a request goes through them:

* :mod:`~terminology.valuesets.resolution` — which code systems, versions, supplements and
  value sets a request means (those it sends, then stored ones);
* :mod:`~terminology.valuesets.limits` — what one request may cost;
* :mod:`~terminology.valuesets.members` and :mod:`~terminology.valuesets.filters` — the
  concepts an ``include`` selects, and the names they are shown with;
* :mod:`~terminology.valuesets.expansion` — ``$expand``;
* :mod:`~terminology.valuesets.typeahead` — ``filter`` over an expansion;
* :mod:`~terminology.valuesets.membership` — ValueSet ``$validate-code``;
* :mod:`~terminology.valuesets.lookup` and :mod:`~terminology.valuesets.code_validation` —
  CodeSystem ``$lookup`` and ``$validate-code``;
* :mod:`~terminology.valuesets.errors` — their errors, each with its FHIR issue.

These are functions of FHIR resources: the services (:mod:`terminology.services.operations`)
hand them what storage read, and the FHIR API renders their answers.
"""
