"""Rebuild the expansion files in src/mesoscreen/knowledge/valuesets/ from published value sets.

Run: python tools/build_valuesets.py PATH/TO/ecqm-content-qicore-2024 COMMIT

The published expansions (VSAC value sets as the eCQM content repository carries them) give
SNOMED CT and RxNorm codes; ICD-10 is matched by category prefixes written here (one prefix
list serves WHO ICD-10, ICD-10-GM and ICD-10-CM); codes the published sets lack (carcinoma in
situ, cardiomyopathy, valve disease, thrombocytopenia, scalp conditions, history-of situations)
are added by hand under a "curated" source, each with its SNOMED CT preferred term, so a
reviewer can check them. Every file names its sources with URL, OID, version and date.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

SNOMED = "http://snomed.info/sct"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
OUT = Path(__file__).resolve().parents[1] / "src/mesoscreen/knowledge/valuesets"


def _load(repo: Path, oid: str) -> dict:
    path = f"input/vocabulary/valueset/external/valueset-{oid}.json"
    text = subprocess.run(["git", "-C", str(repo), "show", f"HEAD:{path}"], capture_output=True,
                          check=True).stdout
    document = json.loads(text)
    document["_path"] = path
    return document


class Builder:
    def __init__(self, repo: Path, commit: str) -> None:
        self.repo = repo
        self.commit = commit

    def source(self, oid: str, take: str, drop: set[str] = frozenset(), keep=None):
        """(provenance entry, {system: [(code, display)]}) of one published value set."""
        document = _load(self.repo, oid)
        found: dict[str, list[tuple[str, str]]] = {}
        for item in document["expansion"]["contains"]:
            if item["system"] not in (SNOMED, RXNORM) or item["code"] in drop:
                continue
            if keep is not None and not keep(item.get("display", "")):
                continue
            found.setdefault(item["system"], []).append((item["code"], item.get("display", "")))
        provenance = {
            "title": document.get("title") or document.get("name"),
            "url": document["url"],
            "oid": oid,
            "version": str(document.get("version", "")),
            "expansion_date": str(document["expansion"].get("timestamp", ""))[:10],
            "retrieved_from": f"https://github.com/cqframework/ecqm-content-qicore-2024/blob/"
            f"{self.commit}/{document['_path']}",
            "taken": take,
        }
        return provenance, found


def _flow(codes: list[str], indent: str = "  ") -> str:
    lines, line = [], []
    for code in codes:
        line.append(f'"{code}"')
        if len(line) == 8:
            lines.append(indent + ", ".join(line) + ",")
            line = []
    if line:
        lines.append(indent + ", ".join(line) + ",")
    return "[\n" + "\n".join(lines) + "\n]"


def _q(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def write(name: str, header: str, scope: str, out_of_scope: str, sources: list[dict],
          snomed: dict[str, str], icd10: list[str], roots: list[str], extra: str = "") -> None:
    body = [f"# {line}".rstrip() for line in header.strip().splitlines()]
    body.append(f"scope: {_q(scope)}")
    body.append(f"out_of_scope: {_q(out_of_scope)}")
    body.append("sources:")
    for source in sources:
        body.append(f"  - title: {_q(source['title'])}")
        for key in ("url", "oid", "version", "expansion_date", "retrieved_from", "taken"):
            if source.get(key):
                body.append(f"    {key}: {_q(source[key])}")
    body.append("# SNOMED CT concepts whose descendants are in scope, for a terminology server.")
    body.append(f"snomed_roots: [{', '.join(_q(r) for r in roots)}]")
    body.append("# ICD-10 category or code prefixes, for WHO ICD-10, ICD-10-GM and ICD-10-CM.")
    body.append(f"icd10_prefixes: [{', '.join(_q(p) for p in icd10)}]")
    body.append(f"snomed: {_flow(sorted(snomed, key=int))}")
    if extra:
        body.append(extra.rstrip())
    (OUT / f"{name}.yaml").write_text("\n".join(body) + "\n", encoding="utf-8")


CURATED = {"title": "Curated by Mesoscreen from the SNOMED CT International Edition (2024-09) "
           "preferred terms; review by a clinical terminologist pending",
           "taken": "snomed codes the published sets lack (listed under curated_snomed)"}


def curated_block(entries: dict[str, str]) -> str:
    lines = ["curated_snomed:"]
    for code, term in entries.items():
        lines.append(f'  "{code}": {_q(term)}')
    return "\n".join(lines)


def main() -> None:
    repo, commit = Path(sys.argv[1]), sys.argv[2]
    b = Builder(repo, commit)

    def union(*parts):
        sources, codes = [], {}
        for provenance, found in parts:
            sources.append(provenance)
            codes.update(dict(found.get(SNOMED, [])))
        return sources, codes

    # --- cancer_history -------------------------------------------------------------
    sources, codes = union(
        b.source("2.16.840.1.113883.3.526.3.1010", "snomed"),
        b.source("2.16.840.1.113762.1.4.1111.161", "snomed"),
        b.source("2.16.840.1.113883.3.464.1003.108.12.1009", "snomed"),
    )
    curated = {
        "363346000": "Malignant neoplastic disease (disorder)",
        "372087000": "Primary malignant neoplasm (disorder)",
        "128462008": "Secondary malignant neoplastic disease (disorder)",
        "109355002": "Carcinoma in situ (disorder)",
        "92691004": "Carcinoma in situ of prostate (disorder)",
        "254837009": "Malignant neoplasm of breast (disorder)",
        "93761005": "Primary malignant neoplasm of colon (disorder)",
        "363406005": "Malignant neoplasm of colon (disorder)",
        "399068003": "Malignant tumor of prostate (disorder)",
        "372244006": "Malignant melanoma (disorder)",
        "254637007": "Non-small cell lung cancer (disorder)",
        "363358000": "Malignant tumor of lung (disorder)",
        "93143009": "Leukemia, disease (disorder)",
        "118600007": "Malignant lymphoma (disorder)",
    }
    codes.update(curated)
    sources.append(CURATED)
    write("cancer_history",
          "Malignant neoplasms: primary, in situ, secondary and haematological, and history of.",
          "Malignant neoplasms of any site, primary or secondary, carcinoma in situ (ICD-10 "
          "D00-D09), lymphoid and haematopoietic malignancies (C81-C96, D45-D47), and personal "
          "history of malignant neoplasm (Z85).",
          "Benign neoplasms (D10-D36), neoplasms of uncertain behaviour other than D45-D47 "
          "(D37-D44, D48), family history of cancer (Z80), screening for cancer (Z12), "
          "suspected cancer. Uncertain or benign tumours are asked, not read.",
          sources, codes,
          ["C", "D0", "D45", "D46", "D47", "Z85"],
          ["363346000", "109355002", "128462008"],
          curated_block(curated))

    # --- myocardial_infarction_history ----------------------------------------------
    sources, codes = union(
        b.source("2.16.840.1.113762.1.4.1108.101", "snomed"),
        b.source("2.16.840.1.113883.3.526.3.403", "snomed"),
    )
    curated = {
        "22298006": "Myocardial infarction (disorder)",
        "1755008": "Old myocardial infarction (disorder)",
        "399211009": "History of myocardial infarction (situation)",
        "57054005": "Acute myocardial infarction (disorder)",
        "401303003": "Acute ST segment elevation myocardial infarction (disorder)",
        "401314000": "Acute non-ST segment elevation myocardial infarction (disorder)",
    }
    codes.update(curated)
    sources.append(CURATED)
    write("myocardial_infarction_history",
          "Myocardial infarction, acute, old or subsequent, and the situation 'history of'.",
          "Myocardial infarction at any time: acute (I21), subsequent (I22), complications "
          "(I23), old (I25.2), and the SNOMED CT situation 'history of myocardial infarction'.",
          "Angina and other ischaemic heart disease without infarction (read as cardiovascular "
          "disease), family history of myocardial infarction.",
          sources, codes, ["I21", "I22", "I23", "I25.2"], ["22298006", "399211009"],
          curated_block(curated))

    # --- cardiovascular_disease -----------------------------------------------------
    af = b.source("2.16.840.1.113883.3.117.1.7.1.202", "snomed")
    arrest = b.source("2.16.840.1.113883.3.3157.4048", "snomed (cardiac arrest, ventricular "
                      "arrhythmias; respiratory arrest left out)", drop={"87317003"})
    sources, codes = union(
        b.source("2.16.840.1.113762.1.4.1047.46", "snomed"),
        b.source("2.16.840.1.113883.3.526.3.369", "snomed"),
        b.source("2.16.840.1.113762.1.4.1047.47", "snomed"),
        b.source("2.16.840.1.113762.1.4.1108.101", "snomed"),
        b.source("2.16.840.1.113883.3.526.3.376", "snomed"),
        b.source("2.16.840.1.113883.3.526.3.366", "snomed"),
        af, arrest,
    )
    cardiac = _load(repo, "2.16.840.1.113762.1.4.1029.341")
    sources.append({"title": cardiac["title"], "url": cardiac["url"],
                    "oid": "2.16.840.1.113762.1.4.1029.341", "version": cardiac["version"],
                    "expansion_date": cardiac["expansion"]["timestamp"][:10],
                    "retrieved_from": f"https://github.com/cqframework/ecqm-content-qicore-2024/"
                    f"blob/{commit}/{cardiac['_path']}",
                    "taken": "its ICD-10-CM categories, as the icd10_prefixes below"})
    curated = {
        "49601007": "Disorder of cardiovascular system (disorder)",
        "56265001": "Heart disease (disorder)",
        "84114007": "Heart failure (disorder)",
        "85898001": "Cardiomyopathy (disorder)",
        "368009": "Heart valve disorder (disorder)",
        "410429000": "Cardiac arrest (disorder)",
        "698247007": "Cardiac arrhythmia (disorder)",
        "49436004": "Atrial fibrillation (disorder)",
        "414545008": "Ischemic heart disease (disorder)",
        "53741008": "Coronary arteriosclerosis (disorder)",
        "194828000": "Angina (disorder)",
        "38341003": "Hypertensive disorder, systemic arterial (disorder)",
        "59621000": "Essential hypertension (disorder)",
        "230690007": "Cerebrovascular accident (disorder)",
        "22298006": "Myocardial infarction (disorder)",
        "1755008": "Old myocardial infarction (disorder)",
        "399211009": "History of myocardial infarction (situation)",
        "57054005": "Acute myocardial infarction (disorder)",
    }
    codes.update(curated)
    sources.append(CURATED)
    write("cardiovascular_disease",
          "Heart and circulatory disease: ischaemic heart disease, infarction, heart failure,\n"
          "arrhythmias, cardiac arrest, cardiomyopathy, valve disease, hypertension, stroke.",
          "Ischaemic heart disease (I20-I25), heart failure (I50, I11.0, I13), arrhythmias and "
          "conduction disorders (I44-I49), cardiac arrest (I46), cardiomyopathy (I42, I43), "
          "valve disease (I05-I09, I34-I39), pericardial and myocardial disease (I30-I41, I51, "
          "I52), hypertensive disease (I10-I16), cerebrovascular disease (I60-I69), congenital "
          "heart disease (Q20-Q24).",
          "Diseases of veins and lymphatics (I80-I89: varicose veins, haemorrhoids), "
          "hypotension (I95), family history of heart disease. SNOMED CT descendants of "
          "cardiomyopathy and valve disease beyond the curated concepts need the terminology "
          "server.",
          sources, codes,
          ["I05", "I06", "I07", "I08", "I09", "I10", "I11", "I12", "I13", "I15", "I16", "I1A",
           "I20", "I21", "I22", "I23", "I24", "I25", "I26", "I27", "I28", "I30", "I31", "I32",
           "I33", "I34", "I35", "I36", "I37", "I38", "I39", "I40", "I41", "I42", "I43", "I44",
           "I45", "I46", "I47", "I48", "I49", "I50", "I51", "I52", "I5A", "I60", "I61", "I62",
           "I63", "I64", "I65", "I66", "I67", "I68", "I69", "I70", "I71", "I97.1", "I97.7",
           "Q20", "Q21", "Q22", "Q23", "Q24", "Z95"],
          ["49601007", "56265001"],
          curated_block(curated))

    # --- insulin_dependent_diabetes -------------------------------------------------
    sources, codes = union(b.source("2.16.840.1.113883.3.464.1003.103.12.1020", "snomed"))
    insulin_prov, insulin = b.source("2.16.840.1.113762.1.4.1196.393",
                                     "rxnorm products containing insulin (mapped to insulin)",
                                     keep=lambda d: "insulin" in d.lower())
    sources.append(insulin_prov)
    curated = {
        "46635009": "Diabetes mellitus type 1 (disorder)",
        "420868002": "Disorder due to type 1 diabetes mellitus (disorder)",
        "237599002": "Insulin treated type 2 diabetes mellitus (disorder)",
    }
    codes.update(curated)
    sources.append(CURATED)
    rx = {code: "insulin" for code, _ in insulin[RXNORM]}
    # Branded insulins record systems commonly send (Synthea among them): SBDs the published
    # set, which lists clinical drugs, lacks.
    rx.update({"106892": "insulin", "865098": "insulin"})
    rx.update({"5856": "insulin", "274783": "insulin", "86009": "insulin", "51428": "insulin",
               "139825": "insulin", "253182": "insulin"})
    extra = curated_block(curated) + "\n" + rxnorm_block(rx, {
        "insulin": {"class": "insulin", "names": ["insulin"]}}) + "\natc_prefixes: [\"A10A\"]"
    write("insulin_dependent_diabetes",
          "Diabetes treated with insulin: type 1 diabetes, insulin use, and insulins as drugs.",
          "Type 1 diabetes (E10), long-term insulin use (Z79.4), insulin-treated type 2 "
          "diabetes (SNOMED CT), and any insulin product (RxNorm, ATC A10A).",
          "Type 2 diabetes without insulin (E11), gestational diabetes, prediabetes, "
          "non-insulin antidiabetic drugs (ATC A10B).",
          sources, codes, ["E10", "Z79.4"], ["46635009", "237599002"], extra)

    # --- clotting_disorder ----------------------------------------------------------
    coag = _load(repo, "2.16.840.1.113762.1.4.1248.23")
    bleed = _load(repo, "2.16.840.1.113762.1.4.1029.287")
    sources = [
        {"title": d["title"], "url": d["url"], "oid": d["url"].rsplit("/", 1)[-1],
         "version": d["version"], "expansion_date": d["expansion"]["timestamp"][:10],
         "retrieved_from": f"https://github.com/cqframework/ecqm-content-qicore-2024/blob/"
         f"{commit}/{d['_path']}", "taken": "its ICD-10-CM categories, as icd10_prefixes"}
        for d in (coag, bleed)
    ]
    curated = {
        "64779008": "Blood coagulation disorder (disorder)",
        "90935002": "Hemophilia (disorder)",
        "28293008": "Hereditary factor VIII deficiency disease (disorder)",
        "128105004": "Von Willebrand disorder (disorder)",
        "302215000": "Thrombocytopenic disorder (disorder)",
        "67406007": "Disseminated intravascular coagulation (disorder)",
    }
    sources.append(CURATED)
    write("clotting_disorder",
          "Coagulation disorders, haemophilias, von Willebrand disease and thrombocytopenia.",
          "Coagulation defects (D65-D68: DIC, haemophilias, von Willebrand disease, acquired "
          "coagulation factor deficiency), purpura and thrombocytopenia (D69), and the SNOMED "
          "CT concepts listed.",
          "Thrombophilia (D68.5, D68.6 read as clotting disorder through D68), anaemias, "
          "bleeding that is not a disorder of coagulation, anticoagulant use (its own "
          "question). Descendants of the curated SNOMED CT concepts need the terminology "
          "server.",
          sources, dict(curated), ["D65", "D66", "D67", "D68", "D69"],
          ["64779008", "302215000"], curated_block(curated))

    # --- pregnant -------------------------------------------------------------------
    sources, codes = union(
        b.source("2.16.840.1.113883.3.526.3.378", "snomed"),
        b.source("2.16.840.1.113883.3.3157.4055", "snomed"),
    )
    curated = {
        "77386006": "Pregnancy (finding)",
        "34801009": "Ectopic pregnancy (disorder)",
        "79586000": "Tubal pregnancy (disorder)",
    }
    codes.update(curated)
    sources.append(CURATED)
    write("pregnant",
          "Pregnancy, including ectopic pregnancy and the pregnant state.",
          "Pregnant state (Z33.1, Z34, Z3A), supervision of high-risk pregnancy (O09), "
          "ectopic and molar pregnancy (O00-O02), and pregnancy conditions O10-O48 and O98-O9A.",
          "Delivery and the puerperium (O60-O92, read by date: older than 280 days is not "
          "current), abortion outcomes (O03-O08), screening for pregnancy (Z32.0), "
          "contraception.",
          sources, codes,
          ["Z33.1", "Z34", "Z3A", "O09", "O00", "O01", "O02", "O1", "O2", "O3", "O40", "O41",
           "O42", "O43", "O44", "O45", "O46", "O47", "O48", "O98", "O99", "O9A"],
          ["77386006"], curated_block(curated))

    # --- breastfeeding --------------------------------------------------------------
    sources, codes = union(b.source("2.16.840.1.113762.1.4.1047.73", "snomed (intention to "
                                    "breastfeed left out)", drop={"169643005"}))
    curated = {"169750002": "Mother currently breast-feeding (finding)",
               "413712001": "Breastfeeding (mother) (finding)"}
    codes.update(curated)
    sources.append(CURATED)
    write("breastfeeding", "Breastfeeding (lactation) as a current state.",
          "Breastfeeding (Z39.1 care and examination of lactating mother), the SNOMED CT "
          "breastfeeding findings of the published set.",
          "Disorders of lactation after weaning (O92.x read only within 180 days), "
          "bottle-feeding.",
          sources, codes, ["Z39.1"], [], curated_block(curated))

    # --- anticoagulant_use ----------------------------------------------------------
    ingredients = {
        "warfarin": ("anticoagulant", ["11289"], ["warfarin", "coumadin"]),
        "phenprocoumon": ("anticoagulant", ["8150"], ["phenprocoumon", "marcumar"]),
        "acenocoumarol": ("anticoagulant", ["154"], ["acenocoumarol"]),
        "apixaban": ("anticoagulant", ["1364430"], ["apixaban", "eliquis"]),
        "rivaroxaban": ("anticoagulant", ["1114195"], ["rivaroxaban", "xarelto"]),
        "dabigatran": ("anticoagulant", ["1037042", "1546356"], ["dabigatran", "pradaxa"]),
        "edoxaban": ("anticoagulant", ["1599538"], ["edoxaban", "lixiana", "savaysa"]),
        "heparin": ("anticoagulant", ["5224"], ["heparin"]),
        "enoxaparin": ("anticoagulant", ["67108"], ["enoxaparin", "lovenox", "clexane"]),
        "dalteparin": ("anticoagulant", ["67109"], ["dalteparin", "fragmin"]),
        "tinzaparin": ("anticoagulant", [], ["tinzaparin"]),
        "fondaparinux": ("anticoagulant", ["321208"], ["fondaparinux", "arixtra"]),
        "clopidogrel": ("antiplatelet", ["32968"], ["clopidogrel", "plavix"]),
        "prasugrel": ("antiplatelet", ["613391"], ["prasugrel", "effient", "efient"]),
        "ticagrelor": ("antiplatelet", ["1116632"], ["ticagrelor", "brilinta", "brilique"]),
        "aspirin": ("antiplatelet", ["1191"],
                    ["low-dose aspirin", "low dose aspirin", "baby aspirin", "aspirin 75",
                     "aspirin 81", "aspirin 100"]),
    }
    sources = []
    rx: dict[str, str] = {}
    analgesic = re.compile(r"acetaminophen|caffeine|butalbital|oxycodone|hydrocodone|"
                           r"dextromethorphan|chlorpheniramine|diphenhydramine|citric|"
                           r"carisoprodol|salicylamide|doxylamine|phenylephrine")

    def daily_aspirin(display: str) -> bool:
        low = display.lower()
        if "aspirin" not in low:
            return True
        if analgesic.search(low):
            return False
        dose = re.search(r"aspirin (\d+(?:\.\d+)?) MG", display)
        return dose is not None and float(dose.group(1)) <= 325

    for oid in ("2.16.840.1.113883.3.117.1.7.1.200", "2.16.840.1.113762.1.4.1248.22",
                "2.16.840.1.113883.3.3157.4045", "2.16.840.1.113762.1.4.1110.62"):
        provenance, found = b.source(
            oid, "rxnorm products mapped to their anticoagulant or antiplatelet ingredient "
            "(aspirin only at antiplatelet doses, 325 mg or less, without analgesic partners)",
            keep=daily_aspirin)
        sources.append(provenance)
        for code, display in found.get(RXNORM, []):
            low = display.lower()
            named = [i for i in ingredients if i in low]
            if named:
                rx.setdefault(code, named[0])
    for ingredient, (_, codes_in, _) in ingredients.items():
        for code in codes_in:
            rx[code] = ingredient
    sources.append({"title": "RxNorm ingredient (IN) concepts of the drugs in scope, curated "
                    "from RxNav; review pending", "taken": "ingredient codes"})
    extra = rxnorm_block(rx, {i: {"class": c, "names": n}
                              for i, (c, _, n) in ingredients.items()})
    extra += '\natc_prefixes: ["B01AA", "B01AB", "B01AC", "B01AE", "B01AF", "B01AX05"]'
    extra += '\n# The examples the intake question shows, checked against the text at load.'
    extra += ('\nexamples: [warfarin, clopidogrel, apixaban, rivaroxaban, heparin, aspirin]')
    write("anticoagulant_use", "Anticoagulants and antiplatelets taken now.",
          "Vitamin K antagonists, direct oral anticoagulants, heparins, fondaparinux, and the "
          "antiplatelets clopidogrel, prasugrel, ticagrelor and daily (low-dose) aspirin; "
          "long-term anticoagulant use (Z79.01) and long-term antiplatelet use (Z79.02).",
          "Aspirin at analgesic doses or in analgesic combinations, thrombolytics (B01AD), "
          "NSAIDs, supplements (fish oil, ginkgo). Named by text only when no code matches.",
          sources, {}, ["Z79.01", "Z79.02"], [], extra)

    # --- treatment_area_wound_or_infection ------------------------------------------
    curated = {
        "5441008": "Tinea capitis (disorder)",
    }
    write("treatment_area_wound_or_infection",
          "Wounds, inflammation and infection of the scalp.",
          "Open wound and superficial injury of the scalp (S01.0, S00.0), tinea capitis "
          "(B35.0), abscess and cellulitis of the scalp (ICD-10-CM L02.811, L03.811), "
          "folliculitis decalvans (L66.2), and the SNOMED CT concepts listed.",
          "Wounds and infections elsewhere (the ICD-10 codes for 'other sites' are too wide "
          "to read as scalp), seborrhoeic dermatitis, psoriasis, alopecia itself. Uncoded "
          "text is a hint to ask, never a yes.",
          [CURATED], dict(curated),
          ["S01.0", "S00.0", "B35.0", "L02.811", "L03.811", "L66.2"], [],
          curated_block(curated))


def rxnorm_block(rx: dict[str, str], ingredients: dict[str, dict]) -> str:
    lines = ["# Ingredients in scope: their class and the names matched in text as a last "
             "resort.", "ingredients:"]
    for name, info in ingredients.items():
        names = ", ".join(_q(n) for n in info["names"])
        lines.append(f"  {name}: {{class: {info['class']}, names: [{names}]}}")
    lines.append("# RxNorm concepts (IN, SCD, SBD, GPCK, BPCK) mapped to their ingredient.")
    lines.append("rxnorm:")
    for code in sorted(rx, key=int):
        lines.append(f'  "{code}": {rx[code]}')
    return "\n".join(lines)


if __name__ == "__main__":
    main()
