/**
 * How the modules `job.ts` itself imports (the queue, the read statics) make `Job` objects of
 * the documents the server answers: with a factory that `Job` hands them, so that they need
 * not import `Job` at run time, which would be an import cycle.
 */
import type { JobDoc } from '../shared/job-doc.ts';
import type { JobData } from './job-builder.ts';
import type { JobRoot } from './job-root.ts';
import type { Job } from './job.ts';

/**
 * Makes the `Job` of a document the server returned; `Job.makeJob` is one. (The data type of
 * the document is the caller's to say: the server does not check it.)
 */
export type JobFactory = (root: JobRoot, doc: JobDoc) => Job<JobData>;
