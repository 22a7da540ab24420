package org.align4j.itests.probe.judge;

/**
 * A plugin kind the pipeline knows nothing about: a third party's contract, exported by its own bundle and used by
 * its own trainer ({@code JudgedTrainer}).
 */
public interface Judge {
    /** Says what it thinks of {@code text}. */
    String judge(String text);
}
