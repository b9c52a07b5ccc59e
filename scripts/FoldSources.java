// Prints how Lucene's ASCIIFoldingFilter and ICU's Latin-ASCII transliterator fold each
// letter beyond ASCII, for scripts/make_fold_table.py, which runs it with both libraries on
// the class path. One line per letter that either of them changes:
// code point (hex) TAB Lucene's folding TAB ICU's folding.

import com.ibm.icu.text.Transliterator;
import org.apache.lucene.analysis.miscellaneous.ASCIIFoldingFilter;

public class FoldSources {
    public static void main(String[] args) {
        Transliterator latinAscii = Transliterator.getInstance("Latin-ASCII");
        StringBuilder lines = new StringBuilder();
        for (int code = 0x80; code <= Character.MAX_CODE_POINT; code++) {
            if (!Character.isLetter(code)) {
                continue;
            }
            String letter = new String(Character.toChars(code));
            String lucene = luceneFolding(letter);
            String icu = latinAscii.transliterate(letter);
            if (!lucene.equals(letter) || !icu.equals(letter)) {
                lines.append(String.format("%04X\t%s\t%s%n", code, lucene, icu));
            }
        }
        System.out.print(lines);
    }

    private static String luceneFolding(String letter) {
        char[] input = letter.toCharArray();
        char[] output = new char[4 * input.length];  // the filter's own bound per char
        int length = ASCIIFoldingFilter.foldToASCII(input, 0, output, 0, input.length);
        return new String(output, 0, length);
    }
}
