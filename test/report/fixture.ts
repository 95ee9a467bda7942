/**
 * A small OK-VQA-format dataset for report and serve tests: real photos (the fixture images under COCO names), and
 * texts that carry script-injection payloads in questions, answers, captions and training answers (which the prior
 * then predicts), so a page that failed to escape them would run them.
 */
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../helpers/cli.js';

export const PAYLOADS = {
  question: 'What is <script>window.__pwned="question"</script> in the cup?',
  answer: '<img src=x onerror="window.__pwned=\'answer\'">',
  caption: 'a cup </script><script>window.__pwned="caption"</script> of coffee <svg onload="window.__pwned=\'svg\'">\u2028line',
  gt: '"><img src=y onerror=window.__pwned=1>',
};

export const PIPELINE = join(repoRoot, 'test', 'fixtures', 'report', 'vision-prior.yaml');
export const IMAGES = { coffee: join(repoRoot, 'test/fixtures/images/coffee.png'), astronaut: join(repoRoot, 'test/fixtures/images/astronaut.png') };

export interface ReportFixture {
  dir: string;
  dataPath: string;
}

export function makeReportFixture(): ReportFixture {
  const dir = mkdtempSync(join(tmpdir(), 'okvqa-report-'));
  const images = join(dir, 'val2014');
  mkdirSync(images);
  const val = [
    { image_id: 1, question_id: 11, question: PAYLOADS.question, answers: [PAYLOADS.answer, 'coffee', 'coffee', 'coffee', 'tea', 'tea', 'latte', PAYLOADS.gt, 'coffee', 'espresso'] },
    { image_id: 2, question_id: 12, question: 'What job does this person have?', answers: ['astronaut', 'astronaut', 'astronaut', 'pilot', 'astronaut', 'nasa', 'astronaut', 'astronaut', 'space', 'astronaut'] },
    { image_id: 1, question_id: 13, question: 'What drink is served in the cup on the table?', answers: ['coffee', 'coffee', 'coffee', 'coffee', 'tea', 'tea', 'coffee', 'coffee', 'coffee', 'latte'] },
    { image_id: 2, question_id: 14, question: 'Which country launched this person into space?', answers: ['usa', 'usa', 'america', 'usa', 'united states', 'usa', 'usa', 'nasa', 'usa', 'usa'] },
  ];
  symlinkSync(IMAGES.coffee, join(images, 'COCO_val2014_000000000001.png'));
  symlinkSync(IMAGES.astronaut, join(images, 'COCO_val2014_000000000002.png'));
  const train = [
    ['What is in the cup?', [PAYLOADS.answer]],
    ['What is in this cup?', [PAYLOADS.answer, 'coffee']],
    ['What drink is in the cup?', ['coffee', 'tea']],
    ['What drink is served here?', ['coffee', 'wine']],
    ['What job does this man have?', ['pilot', 'chef']],
    ['What job does this person do?', ['astronaut', 'doctor']],
    ['Which country launched this rocket?', ['usa', 'russia']],
    ['Which country is this?', ['france', 'usa']],
  ] as const;
  const ann = (id: number, image: number, answers: readonly string[]) => ({
    image_id: image,
    question_id: id,
    answer_type: 'other',
    question_type: id % 2 ? 'what is' : 'other',
    answers: Array.from({ length: 10 }, (_, i) => ({ answer: answers[i % answers.length]!, raw_answer: answers[i % answers.length]!, answer_confidence: 'yes', answer_id: i + 1 })),
  });
  const w = (name: string, v: unknown) => writeFileSync(join(dir, name), typeof v === 'string' ? v : JSON.stringify(v));
  w('val_questions.json', { questions: val.map(({ image_id, question_id, question }) => ({ image_id, question_id, question })) });
  w('val_annotations.json', { annotations: val.map((q) => ({ ...ann(q.question_id, q.image_id, q.answers), question_type: q.question_id % 2 ? 'what is' : 'which' })) });
  w('train_questions.json', { questions: train.map(([question], i) => ({ image_id: 100 + i, question_id: 1000 + i, question })) });
  w('train_annotations.json', { annotations: train.map(([, answers], i) => ann(1000 + i, 100 + i, answers)) });
  w('captions.tsv', `1\t${JSON.stringify([{ caption: PAYLOADS.caption, conf: 0.9 }])}\n2\t${JSON.stringify([{ caption: 'an astronaut in an orange suit', conf: 0.8 }])}\n`);
  const dataPath = join(dir, 'data.json');
  w('data.json', {
    dataset: 'okvqa',
    questions: 'val_questions.json',
    annotations: 'val_annotations.json',
    captions: 'captions.tsv',
    images: 'val2014',
    examples: { questions: 'train_questions.json', annotations: 'train_annotations.json' },
  });
  return { dir, dataPath };
}
