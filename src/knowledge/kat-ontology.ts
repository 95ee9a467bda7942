/**
 * A knowledge base from KAT's own entity database (guilk/KAT `wikidata_ontology.pkl`: QID → (name, description)), in the
 * pickle's key order (KAT's faiss ids follow `list(entity_data.keys())`); texts `{name} is a {description}` as KAT
 * embedded them (build_wikidata_entity_db.py `load_entity_descriptions`).
 */
import { InputError } from '../core/errors.js';
import { pyStr, readPickle } from '../data/pickle.js';
import { katEntityText, KnowledgeStore, type Entity } from './store.js';

export interface KatOntologyResult {
  entities: number;
  inserted: number;
  seconds: number;
}

export function buildKatOntology(opts: { ontology: string; out: string }): KatOntologyResult {
  const t0 = Date.now();
  const d = readPickle(opts.ontology);
  if (!d || typeof d !== 'object' || Array.isArray(d)) throw new InputError('expected a dict QID → (name, description)', opts.ontology);
  const items = Object.entries(d as Record<string, unknown>);
  const store = KnowledgeStore.open(opts.out);
  let inserted = 0;
  try {
    for (let i = 0; i < items.length; i += 5000) {
      const batch: Entity[] = items.slice(i, i + 5000).map(([id, v]) => {
        if (!Array.isArray(v) || v.length < 2) throw new InputError(`"${id}": expected (name, description)`, opts.ontology);
        // Python's str(): a None description reads as "None", as KAT's '{} is a {}'.format(…) wrote it
        const label = pyStr(v[0]);
        const description = pyStr(v[1]);
        return { id, label, description, text: katEntityText(label, description), source: 'kat-ontology' };
      });
      store.transaction(() => {
        inserted += store.insertEntities(batch);
      });
    }
    store.setMeta('kat.ontology', 'wikidata_ontology.pkl');
  } finally {
    store.close();
  }
  return { entities: items.length, inserted, seconds: (Date.now() - t0) / 1000 };
}
