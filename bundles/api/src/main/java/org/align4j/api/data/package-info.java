/** Dataset readers, corpus generators and the split/shuffle/pack tools of a text corpus. */
@Export
@Version("1.0.0")
package org.align4j.api.data;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
