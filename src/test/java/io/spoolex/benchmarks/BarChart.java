/*
 * Licensed under the Apache License, Version 2.0 (the "License");
 * you may not use this file except in compliance with the License.
 * You may obtain a copy of the License at
 *
 *     http://www.apache.org/licenses/LICENSE-2.0
 *
 * Unless required by applicable law or agreed to in writing, software
 * distributed under the License is distributed on an "AS IS" BASIS,
 * WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
 * See the License for the specific language governing permissions and
 * limitations under the License.
 */
package io.spoolex.benchmarks;

import javax.imageio.ImageIO;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static java.util.Objects.requireNonNull;

/**
 * A small horizontal bar chart written as PNG with Java2D (no extra dependency), for benchmark ratios: one group of
 * bars per row label, an optional reference line (1.0 for ratios, or a target).
 */
public final class BarChart
{
    private static final Color[] PALETTE = {
            new Color(0x1F77B4), new Color(0xFF7F0E), new Color(0x2CA02C), new Color(0xD62728), new Color(0x9467BD), new Color(0x8C564B),
    };

    public record Bar(String series, double value) {}

    public record Group(String label, List<Bar> bars)
    {
        public Group
        {
            requireNonNull(label, "label is null");
            bars = List.copyOf(bars);
        }
    }

    private BarChart() {}

    /**
     * @param referenceLines x values to mark with a dashed line and their own label (e.g. 1.0 = parity, 1.5 = target)
     */
    public static void write(Path file, String title, String axisLabel, List<Group> groups, List<Double> referenceLines)
    {
        List<String> series = groups.stream().flatMap(group -> group.bars().stream()).map(Bar::series).distinct().toList();
        int barHeight = 16;
        int groupGap = 12;
        int left = 230;
        int right = 90;
        int top = 60;
        int plotWidth = 620;
        int rows = groups.stream().mapToInt(group -> group.bars().size()).sum();
        int height = top + rows * barHeight + groups.size() * groupGap + 70 + 18 * series.size();
        int width = left + plotWidth + right;
        double max = Math.max(
                groups.stream().flatMap(group -> group.bars().stream()).mapToDouble(Bar::value).max().orElse(1),
                referenceLines.stream().mapToDouble(Double::doubleValue).max().orElse(0)) * 1.1;

        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D graphics = image.createGraphics();
        try {
            graphics.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            graphics.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            graphics.setColor(Color.WHITE);
            graphics.fillRect(0, 0, width, height);
            graphics.setColor(Color.BLACK);
            graphics.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 15));
            graphics.drawString(title, 12, 26);
            graphics.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
            graphics.drawString(axisLabel, left, 46);

            int y = top;
            for (Group group : groups) {
                graphics.setColor(Color.BLACK);
                graphics.drawString(group.label(), 12, y + barHeight - 3);
                for (Bar bar : group.bars()) {
                    int barWidth = (int) Math.round(bar.value() / max * plotWidth);
                    graphics.setColor(PALETTE[series.indexOf(bar.series()) % PALETTE.length]);
                    graphics.fillRect(left, y + 2, Math.max(barWidth, 1), barHeight - 4);
                    graphics.setColor(Color.DARK_GRAY);
                    graphics.drawString(format(bar.value()), left + barWidth + 5, y + barHeight - 4);
                    y += barHeight;
                }
                y += groupGap;
            }
            int plotBottom = y;
            graphics.setColor(Color.GRAY);
            graphics.drawLine(left, top - 4, left, plotBottom);
            graphics.setStroke(new BasicStroke(1, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10, new float[] {5, 4}, 0));
            for (double reference : referenceLines) {
                int x = left + (int) Math.round(reference / max * plotWidth);
                graphics.drawLine(x, top - 4, x, plotBottom);
                graphics.drawString(format(reference), x - 10, plotBottom + 14);
            }
            graphics.setStroke(new BasicStroke());
            int legendY = plotBottom + 34;
            for (int i = 0; i < series.size(); i++) {
                graphics.setColor(PALETTE[i % PALETTE.length]);
                graphics.fillRect(left, legendY + i * 18 - 10, 12, 12);
                graphics.setColor(Color.BLACK);
                graphics.drawString(series.get(i), left + 18, legendY + i * 18);
            }
        }
        finally {
            graphics.dispose();
        }
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            ImageIO.write(image, "png", file.toFile());
        }
        catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String format(double value)
    {
        return value >= 100 ? "%.0f".formatted(value) : "%.2f".formatted(value);
    }
}
