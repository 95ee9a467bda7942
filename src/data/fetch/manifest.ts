/**
 * What `okvqa data fetch` downloads: the official files of each dataset, with the sizes and sha256 digests this project
 * could establish and where they come from. A file with no recorded digest is still checked: its size against the
 * server's Content-Length, every archive member against its CRC-32 while unpacking, and the unpacked JSON by parsing
 * it; its sha256 is printed and written to `<dir>/fetched.json`.
 */

export type Unpack = 'zip' | 'tar.gz' | 'none';

export interface RemoteFile {
  /** File name (also the name under a `--base-url` mirror). */
  name: string;
  url: string;
  /** Size in bytes, when known. */
  size?: number;
  /** sha256 (hex) of the whole file, when known. */
  sha256?: string;
  /** Where size and digest were taken from. */
  checksumSource?: string;
  unpack: Unpack;
  /** Folder under the target's folder to unpack into (default: the target's folder). */
  into?: string;
  /** Only archive members whose path matches (default: all). */
  members?: RegExp;
  /** Files (relative to the target's folder) that exist once it is unpacked: the check that unpacking finished. */
  yields: string[];
}

export interface DatasetTarget {
  id: TargetId;
  description: string;
  /** Folder under `--dir`. */
  folder: string;
  files: RemoteFile[];
}

export const TARGET_IDS = ['okvqa', 'aokvqa', 'coco-captions', 'coco-val-images'] as const;
export type TargetId = (typeof TARGET_IDS)[number];

const TFDS_COCO = 'tensorflow/datasets tensorflow_datasets/url_checksums/coco.txt';
const OKVQA = 'https://okvqa.allenai.org/static/data';

export const DATASET_TARGETS: Readonly<Record<TargetId, DatasetTarget>> = {
  okvqa: {
    id: 'okvqa',
    description: 'OK-VQA v1.0 questions and annotations, train and val (okvqa.allenai.org)',
    folder: 'okvqa',
    files: [
      { name: 'OpenEnded_mscoco_val2014_questions.json.zip', url: `${OKVQA}/OpenEnded_mscoco_val2014_questions.json.zip`, unpack: 'zip', yields: ['OpenEnded_mscoco_val2014_questions.json'] },
      { name: 'mscoco_val2014_annotations.json.zip', url: `${OKVQA}/mscoco_val2014_annotations.json.zip`, unpack: 'zip', yields: ['mscoco_val2014_annotations.json'] },
      { name: 'OpenEnded_mscoco_train2014_questions.json.zip', url: `${OKVQA}/OpenEnded_mscoco_train2014_questions.json.zip`, unpack: 'zip', yields: ['OpenEnded_mscoco_train2014_questions.json'] },
      { name: 'mscoco_train2014_annotations.json.zip', url: `${OKVQA}/mscoco_train2014_annotations.json.zip`, unpack: 'zip', yields: ['mscoco_train2014_annotations.json'] },
    ],
  },
  aokvqa: {
    id: 'aokvqa',
    description: 'A-OKVQA v1.0 train/val/test (allenai/aokvqa, prior-datasets bucket)',
    folder: 'aokvqa',
    files: [
      {
        name: 'aokvqa_v1p0.tar.gz',
        url: 'https://prior-datasets.s3.us-east-2.amazonaws.com/aokvqa/aokvqa_v1p0.tar.gz',
        unpack: 'tar.gz',
        yields: ['aokvqa_v1p0_train.json', 'aokvqa_v1p0_val.json', 'aokvqa_v1p0_test.json'],
      },
    ],
  },
  'coco-captions': {
    id: 'coco-captions',
    description: "COCO 2014 caption annotations (captions_train2014.json: PICa's in-context examples), cocodataset.org",
    folder: 'coco',
    files: [
      {
        name: 'annotations_trainval2014.zip',
        url: 'http://images.cocodataset.org/annotations/annotations_trainval2014.zip',
        size: 252_872_794,
        sha256: '031296bbc80c45a1d1f76bf9a90ead27e94e99ec629208449507a4917a3bf009',
        checksumSource: TFDS_COCO,
        unpack: 'zip',
        members: /^annotations\/captions_(train|val)2014\.json$/,
        yields: ['annotations/captions_train2014.json', 'annotations/captions_val2014.json'],
      },
    ],
  },
  'coco-val-images': {
    id: 'coco-val-images',
    description: 'COCO val2014 images (40,504 JPEGs, 6.6 GB; every OK-VQA val image), cocodataset.org',
    folder: 'coco',
    files: [
      {
        name: 'val2014.zip',
        url: 'http://images.cocodataset.org/zips/val2014.zip',
        size: 6_645_013_297,
        sha256: 'fe9be816052049c34717e077d9e34aa60814a55679f804cd043e3cbee3b9fde0',
        checksumSource: TFDS_COCO,
        unpack: 'zip',
        yields: ['val2014'],
      },
    ],
  },
};
