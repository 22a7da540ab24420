/**
 * Dataset readers, corpus generators, the split/shuffle/pack tools of a text corpus, the typed examples of TRL's
 * dataset formats ({@link org.align4j.api.data.StructuredDatasets}) and the collation of tokenised examples into
 * padded batches ({@link org.align4j.api.data.Collator}).
 */
@Export
@Version("1.1.0")
package org.align4j.api.data;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
